using StreamBench.Fuzz.Targets;

// The fuzz target host for StreamBench.Formats (reader, verifier, Kaitai, legacy, differential); see Host.
return Host.Run(args, Catalog.All);
