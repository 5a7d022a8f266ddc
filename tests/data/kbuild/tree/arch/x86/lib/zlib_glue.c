void zlib_glue(void) {}
