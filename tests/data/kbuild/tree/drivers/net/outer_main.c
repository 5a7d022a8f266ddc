void outer_main(void) {}
