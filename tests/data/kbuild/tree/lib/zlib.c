void zlib(void) {}
