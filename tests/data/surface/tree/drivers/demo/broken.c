// A file tree-sitter cannot fully parse: the bytes lost are reported, the calls kept.
int demo_broken(void __iomem *p)
{
	int x = { inb(0x60) ] ;
	return readl(p);
}
