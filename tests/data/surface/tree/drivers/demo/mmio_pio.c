// Port I/O, MMIO, macro wrappers, scoped_guard and annotations.
#include <linux/demo_io.h>

#define RDEMO_R32(priv, reg)	readl((priv)->mmio + (reg))

struct demo {
	void __iomem *mmio;
	u32 table[16];
	u32 cached;
	spinlock_t lock;
};

static u32 __must_check demo_status(struct demo *d)
{
	return RDEMO_R32(d, 0x10);
}

static int __init demo_probe(struct demo *d, char *buf)
{
	u32 idx = demo_status(d);
	u8 rtc;
	int i;

	d->table[idx] = 0;
	scoped_guard(spinlock_irqsave, &d->lock) {
		d->cached = inb(0x71);
	}
	for (i = 0; i < ioread32(d->mmio + 4); i++)
		buf[i] = 0;
	rtc = inb_p(0x70);
	if (rtc == 3)
		return -1;
	pr_info("status %x\n", DEMO_READ_REG(d->mmio, 8));
	writel(readl(d->mmio + 12), d->mmio + 12);
	return 0;
}

u32 demo_get_features(struct demo *d)
{
	return demo_ioread32(d->mmio + 0x20);
}
