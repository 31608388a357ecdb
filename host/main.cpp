#include "app/app.hpp"

int main(int argc, char** argv) { return dmc::app::main(argc, argv); }
