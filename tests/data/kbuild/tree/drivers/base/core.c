void device_add(void) {}
