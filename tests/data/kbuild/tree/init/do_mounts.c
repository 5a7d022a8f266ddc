void prepare_namespace(void) {}
