void *virtqueue_get_buf(void) { return 0; }
