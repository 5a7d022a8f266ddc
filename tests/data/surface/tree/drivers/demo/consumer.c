// Uses a derived source defined in another file: cross-file fixpoint.
extern u32 demo_get_features(struct demo *d);

static void demo_features_out(struct demo *d, u32 *out)
{
	*out = demo_get_features(d);
}

int demo_use(struct demo *d, u8 *dst, const u8 *src)
{
	u32 n;

	demo_features_out(d, &n);
	memcpy(dst, src, n);
	return 0;
}
