#include "studies_cli/studies_main.hpp"

int main(int argc, char** argv) { return studies_cli::main(argc, argv); }
