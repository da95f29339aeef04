//! The Mesos master: frameworks subscribe over the v1 scheduler API and get offers of the
//! resources agents register with; tasks flow to agents; operators read and change the
//! cluster over the v1 operator API and the JSON endpoints.
