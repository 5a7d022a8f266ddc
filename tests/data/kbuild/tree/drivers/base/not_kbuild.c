void not_kbuild(void) {}
