// One use per line, for the grades not covered elsewhere.
struct demo_desc { u32 len; };

void demo_grades(void __iomem *base, struct demo *d)
{
	struct demo_desc *desc = (struct demo_desc *)readq(base);
	u32 v = readl(base + 8);

	demo_consume(readl(base + 4));
	readl(base + 12);
	demo_consume(d->ring[0] + desc->len);
	writel(v, base);
	if (!inb(0x64))
		return;
	d->state = d->flag ? inw(0x60) : 0;
}

static void demo_set(struct demo *d, u32 slot)
{
	d->table[slot] = 1;
}

void demo_helpers(void __iomem *base, struct demo *d)
{
	demo_set(d, readl(base));
	d->table[FIELD_GET(0xf0, readl(base + 4))] = 0;
}

static u16 demo_le_reg(void __iomem *base)
{
	return le16_to_cpu(readw(base + 2));
}

void demo_reuse(void __iomem *base, u32 *tbl)
{
	u32 v;

	v = readl(base);
	pr_info("%x\n", v);
	v = readl(base + 4);
	tbl[v] = 0;
	mlx_demo_warn("reg %x\n", readl(base + 8));
}
