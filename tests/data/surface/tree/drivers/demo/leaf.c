// CPUID leaves named by #define: decoded like literals.
#define DEMO_HV_CPUID_LEAF	0x40000010
#define DEMO_TOPO_LEAF		(0x1fU)	/* extended topology */
#define DEMO_XSTATE_CPUID	0x0000000d

u32 demo_leaf(void)
{
	return cpuid_eax(DEMO_HV_CPUID_LEAF) + cpuid_ebx(DEMO_TOPO_LEAF);
}

static unsigned int demo_xsave_size(void)
{
	unsigned int eax, ebx, ecx, edx;

	cpuid_count(DEMO_XSTATE_CPUID, 1, &eax, &ebx, &ecx, &edx);
	return ebx;
}

unsigned int demo_fpu_size(void)
{
	return demo_xsave_size();
}
