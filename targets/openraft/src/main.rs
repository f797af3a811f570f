//! `squall-openraft`: squall's command line with openraft added to its systems.

squall::main!(squall_openraft::OpenRaft::default());
