void sort(void) {}
