void vp_m(void) {}
