void pci_arch_init(void) {}
