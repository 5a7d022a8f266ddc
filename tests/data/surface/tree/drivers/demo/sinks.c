// Derived sinks (sinks.py): write and print wrappers, store, value and index macros.
#define DEMO_WRITE(val, port) outb((u8)(val), (port))
#define demo_dbg(fmt, arg...) printk(KERN_DEBUG fmt, ##arg)
#define DEMO_SET64(p, v) do { *((u64 *)(p)) = cpu_to_be64(v); } while (0)
#define DEMO_FIELD(v) (((v) >> 20) & 0xffc)
#define demo_res(d, i) (&(d)->res[(i)])

void demo_sinks(void __iomem *base, u64 *ctx, struct demo_dev *d)
{
	u32 a = readl(base);
	u32 b = readl(base + 4);
	u32 c = readl(base + 8);
	u32 e = readl(base + 12);
	u32 f = readl(base + 16);
	u32 g = readl(base + 20);

	DEMO_WRITE(a, 0x70);
	demo_dbg("%x\n", b);
	DEMO_SET64(ctx, c);
	if (DEMO_FIELD(e) > 4)
		return;
	demo_write_reg(base, 8, f);
	demo_res(d, g)->start = 0;
}
