/* A driver-local header: its macros are visible to this directory only. */
#define DEMO_LOCAL_R32(p)	readl(p)

/* The driver's own implementation of a catalogue accessor: callers still see the primitive. */
static inline int serial_in(struct demo *d, int offset)
{
	return d->serial_in(d, offset);
}
