/* A header accessor over a primitive: derived across files. */
static inline u32 demo_ioread32(const u32 __iomem *addr)
{
	return ioread32(addr);
}

#define DEMO_READ_REG(base, off)	readl((base) + (off))
