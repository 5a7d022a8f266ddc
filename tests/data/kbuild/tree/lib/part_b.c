void part_b(void) {}
