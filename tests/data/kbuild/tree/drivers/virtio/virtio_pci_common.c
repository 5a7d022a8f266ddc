void vp_common(void) {}
