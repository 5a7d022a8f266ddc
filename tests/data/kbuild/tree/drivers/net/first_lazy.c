void not_lazy(void) {}
