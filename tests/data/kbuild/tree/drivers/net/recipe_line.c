void recipe_line(void) {}
