void vp_nope(void) {}
