void hv_early(void) {}
