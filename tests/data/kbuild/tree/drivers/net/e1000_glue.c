void e1000_glue(void) {}
