void part_a(void) {}
