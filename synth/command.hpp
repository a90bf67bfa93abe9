#pragma once
// The subcommand type lives in core/command.hpp (shared by compare and synth).
#include "core/command.hpp"
