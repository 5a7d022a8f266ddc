// CPUID leaves named by #define: decoded like literals.
#define DEMO_HV_CPUID_LEAF	0x40000010
#define DEMO_TOPO_LEAF		(0x1fU)	/* extended topology */

u32 demo_leaf(void)
{
	return cpuid_eax(DEMO_HV_CPUID_LEAF) + cpuid_ebx(DEMO_TOPO_LEAF);
}
