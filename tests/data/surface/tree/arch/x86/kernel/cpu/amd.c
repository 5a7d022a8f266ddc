// Vendor code: runs only on AMD CPUs (flagged unreachable on TDX).
u32 demo_amd_nb(void)
{
	return inl(0xcfc);
}
