void vp_modern(void) {}
