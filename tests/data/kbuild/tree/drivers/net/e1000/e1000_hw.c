void e1000_hw(void) {}
