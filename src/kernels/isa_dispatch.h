#pragma once
// One home for choosing a kernel table, shared by the float and the quantized
// families: the table MOBILELLM_ISA forces, else the widest ISA whose table is
// compiled in and whose instructions this CPU runs.
#include <optional>
#include <string>
#include <vector>

#include "kernels/float_kernels.h"
#include "runtime/error.h"

namespace mobilellm::kernels {

// What a family of tables says about one ISA.
template <class Table>
struct TableFamily {
  const Table* (*compiled)(Isa isa);  // nullptr when not compiled into this build
  bool (*cpu_runs)(Isa isa);          // the family's instructions for isa are usable here
  const char* requirements;           // what cpu_runs asks beyond the ISA's name, for the error
};

template <class Table>
const Table* table_for(const TableFamily<Table>& family, Isa isa) {
  return family.cpu_runs(isa) ? family.compiled(isa) : nullptr;
}

// ISAs with a runnable table of their own, scalar first. An ISA that borrows a
// narrower one's table (table->isa differs) is left out, so that tests do not
// run one table twice.
template <class Table>
std::vector<Isa> runnable(const TableFamily<Table>& family) {
  std::vector<Isa> isas;
  for (Isa isa : kAllIsas)
    if (const Table* table = table_for(family, isa); table && table->isa == isa) isas.push_back(isa);
  return isas;
}

template <class Table>
const Table& choose(const TableFamily<Table>& family) {
  if (const std::optional<Isa> forced = forced_isa()) {
    if (const Table* table = table_for(family, *forced)) return *table;
    throw Error(std::string("MOBILELLM_ISA=") + isa_name(*forced) +
                ": not compiled into this build or not supported by this CPU (" + family.requirements + ")");
  }
  return *table_for(family, runnable(family).back());
}

}  // namespace mobilellm::kernels
