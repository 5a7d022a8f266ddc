// A file tree-sitter cannot fully parse: the bytes lost are reported, the calls kept.
int demo_broken(void __iomem *p)
{
	int x = { inb(0x60) ] ;
	return readl(p);
}

/* A macro that opens a block another one closes: not parsable on its own. */
#define DEMO_BEGIN(p)	{ int __v = inw(p);
#define DEMO_END	}
