void wild_two(void) {}
