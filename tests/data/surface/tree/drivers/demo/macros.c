// Macro semantics: out-argument positions, macros that assign their arguments, aliases.
#define demo_inb inb
#define demo_rdmsr(msr, lo, hi)			\
do {						\
	u64 __val = __rdmsr((msr));		\
	(void)((lo) = (u32)__val);		\
	(void)((hi) = (u32)(__val >> 32));	\
} while (0)

void demo_macros(struct virtio_device *vdev, void __iomem *base, u8 *buf, u32 *tbl)
{
	u64 capacity;
	u32 lo, hi, st;

	virtio_cread(vdev, struct virtio_blk_config, capacity, &capacity);
	memset(buf, 0, capacity);
	tbl[demo_inb(0x71)] = 0;
	demo_rdmsr(0xc0010131, lo, hi);
	tbl[hi] = lo;
	readl_poll_timeout(base, st, st & 1, 10, 100);
	tbl[st] = 0;
}
