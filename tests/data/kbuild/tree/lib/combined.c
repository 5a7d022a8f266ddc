/* a unity build, like kernel/sched/build_policy.c */
#include "part_a.c"
#ifdef CONFIG_NOPE
# include "part_b.c"
#endif
#if IS_ENABLED(CONFIG_VIRTIO) && !defined(CONFIG_NOPE)
#include "part_c.c"
#endif
#include "generated_table.c"
