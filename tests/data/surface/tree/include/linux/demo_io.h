/* A header accessor over a primitive: derived across files. */
static inline u32 demo_ioread32(const u32 __iomem *addr)
{
	return ioread32(addr);
}

#define DEMO_READ_REG(base, off)	readl((base) + (off))

/* A write wrapper in a global header (derived by sinks.py). */
static inline void demo_write_reg(void __iomem *base, u32 reg, u32 value)
{
	if (!base)
		return;
	writel(value | 1, base + reg);
}
