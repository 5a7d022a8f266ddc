void e1000_main(void) {}
