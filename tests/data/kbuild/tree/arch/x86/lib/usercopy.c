void copy_user(void) {}
