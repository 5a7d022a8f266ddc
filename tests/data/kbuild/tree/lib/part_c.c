void part_c(void) {}
