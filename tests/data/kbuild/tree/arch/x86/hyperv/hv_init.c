void hyperv_init(void) {}
