using System.Diagnostics.CodeAnalysis;

// These names are fixed by the code kaitai-struct-compiler emits (and by KaitaiStruct.Runtime.CSharp, which this
// runtime stands in for): the generated parsers refer to them, so they cannot follow .NET naming guidelines.
[assembly: SuppressMessage("Naming", "CA1715:Identifiers should have correct prefix", Justification = "The compiler emits 'CustomDecoder'.", Scope = "type", Target = "~T:Kaitai.CustomDecoder")]
[assembly: SuppressMessage("Naming", "CA1708:Identifiers should differ by more than case", Justification = "The compiler emits both 'm_io' and 'M_Io'.", Scope = "type", Target = "~T:Kaitai.KaitaiStruct")]
[assembly: SuppressMessage("Naming", "CA1710:Identifiers should have correct suffix", Justification = "The compiler emits 'KaitaiStructError'.", Scope = "type", Target = "~T:Kaitai.KaitaiStructError")]
[assembly: SuppressMessage("Naming", "CA1710:Identifiers should have correct suffix", Justification = "The compiler emits 'UndecidedEndiannessError'.", Scope = "type", Target = "~T:Kaitai.UndecidedEndiannessError")]
