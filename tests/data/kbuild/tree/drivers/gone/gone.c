void gone(void) {}
