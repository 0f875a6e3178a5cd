// Package layout decides, for each file in an onFact export folder, what
// document it is and where it goes in Dropbox.
//
// It has three parts:
//
//   - Classification (Classify, ClassifyDir): the document type, issue date,
//     customer and number of a file, read from UBL XML (the file itself or
//     the .xml file beside it with the same base name), else guessed from the
//     file name, else the modification time. Untrusted XML is read with hard
//     bounds on bytes, depth and work; anything odd is "other", never a crash.
//   - Mapping (Structure, Layout, MapAll): the Dropbox path of a classified
//     file under one of the folder structures, with every segment made valid
//     for Dropbox and for Windows, macOS and Linux, and case-insensitive
//     collisions resolved deterministically.
//   - Preview (Preview, WritePreview): the first mappings of a real folder,
//     for the wizard and the command line.
//
// Mapping is pure: no I/O, deterministic for a given input. Classification
// does only the I/O it needs (no reads of PDFs, one directory listing per
// folder in ClassifyDir) and keeps its decisions in pure functions.
package layout
