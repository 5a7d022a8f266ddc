// Same macro name elsewhere in the tree: not the driver's accessor, not a source.
u32 unrelated_read(struct thing *t)
{
	return DEMO_LOCAL_R32(t);
}
