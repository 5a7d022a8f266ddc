// In a subdirectory of the header's directory: DEMO_LOCAL_R32 is the driver's accessor.
u32 demo_sub_read(void __iomem *p)
{
	return DEMO_LOCAL_R32(p);
}

int demo_sub_lsr(struct demo *d)
{
	return serial_in(d, 5);
}

int demo_sub_iir(struct uart_8250_port *p)
{
	return p->serial_in(p, 2) & 0x0f;
}
