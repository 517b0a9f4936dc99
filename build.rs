//! Compiles the admin wire contract with a vendored protoc: a fresh machine needs none.
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    std::env::set_var("PROTOC", protoc_bin_vendored::protoc_bin_path()?);
    let includes = [PathBuf::from("proto"), protoc_bin_vendored::include_path()?];
    let descriptor = PathBuf::from(std::env::var("OUT_DIR")?).join("admin_descriptor.bin");
    tonic_prost_build::configure()
        .file_descriptor_set_path(descriptor)
        .compile_protos(
            &[PathBuf::from("proto/gatehouse/admin/v1/admin.proto")],
            &includes,
        )?;
    Ok(())
}
