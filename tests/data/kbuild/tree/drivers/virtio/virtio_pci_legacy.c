void vp_legacy(void) {}
