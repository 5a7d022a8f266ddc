/* A driver-local header: its macros are visible to this directory only. */
#define DEMO_LOCAL_R32(p)	readl(p)
