// CPUID (literal leaves), MSRs, hypercalls, pvclock, ACPI, fw_cfg, boot_params.
static unsigned long demo_platform(struct acpi_table_header **tbl, void *blob)
{
	unsigned int eax, ebx, ecx, edx;
	u64 tsc, status, khz;
	long ret;

	cpuid(0x40000000, &eax, &ebx, &ecx, &edx);
	khz = cpuid_eax(0x16);
	rdmsrl(MSR_IA32_TSC, tsc);
	rdmsrl(MSR_AMD64_SEV, status);
	ret = kvm_hypercall1(5, 0);
	ret += tdx_kvm_hypercall(1, 2, 3, 4);
	khz += pvclock_tsc_khz(NULL);
	acpi_get_table("APIC", 0, tbl);
	fw_cfg_read_blob(0x19, blob, 0, 16);
	add_bootloader_randomness(blob, 16);
	return boot_params.hdr.setup_data + eax + status + tsc + khz + ret;
}

struct boot_params boot_params;

static void demo_declares_only(struct boot_params *boot_params);
