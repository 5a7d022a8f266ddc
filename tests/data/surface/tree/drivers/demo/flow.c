// Path-aware use tracking: one source per function, line numbers used by test_scan.py.
struct demo_pair { u32 lo; u32 hi; };
u16 demo_global;

void demo_arms(void __iomem *base, u32 *tbl, int mode)
{
	u32 v = readl(base);

	switch (mode) {
	case 1:
		v = 0;
		break;
	case 2:
		tbl[v] = 1;
		break;
	}
}

void demo_self(void __iomem *base, u32 *tbl)
{
	u32 v = readl(base);

	v = v & 0xff;
	tbl[v] = 0;
}

void demo_loop(void __iomem *base, u32 *tbl)
{
	u32 v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		tbl[v] = 0;
		v = readl(base + i);
	}
}

void demo_killed(void __iomem *base, u32 *tbl)
{
	u32 v = readl(base);

	v = 0;
	tbl[v] = 0;
}

void demo_outargs(struct pci_dev *pdev, struct demo *d, u32 *tbl)
{
	u16 w;
	u16 buf[2];

	pci_read_config_word(pdev, 4, &w);
	pci_read_config_word(pdev, 6, &w);
	tbl[w] = 0;
	pci_read_config_word(pdev, 8, NULL);
	pci_read_config_word(pdev, 10, &demo_global);
	pci_read_config_word(pdev, 12, &d->state);
	pci_read_config_word(pdev, 14, buf);
	tbl[buf[0]] = 0;
}

void demo_field(void __iomem *base, u32 *tbl)
{
	struct demo_pair s;

	memcpy_fromio(&s, base, sizeof(s));
	tbl[s.lo] = 0;
}

void demo_dma(struct device *dev, dma_addr_t a, u32 n)
{
	dma_unmap_single(dev, a, n, DMA_TO_DEVICE);
	dma_unmap_single(dev, a, n, DMA_FROM_DEVICE);
}

static void demo_copy_tofrom(void *buf, void __iomem *io, u32 len, int from_io)
{
	if (from_io)
		memcpy_fromio(buf, io, len);
	else
		memcpy_toio(io, buf, len);
}

void demo_direction(void __iomem *io, u8 *tbl)
{
	u8 b[4];

	demo_copy_tofrom(b, io, 4, 1);
	demo_copy_tofrom(b, io, 4, 0);
	tbl[b[0]] = 0;
}

void demo_deep(void __iomem *base, u32 *t)
{
	u32 a = readl(base);
	u32 b = a, c = b, d = c, e = d, f = e, g = f, h = g, i = h, j = i, k = j;

	t[k] = 0;
}
